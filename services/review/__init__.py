"""The review service (审核服务): provider confirmation, county review, city recommendation."""
