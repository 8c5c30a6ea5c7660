"""The application service (申报服务): accounts, campaigns, the supply pool, applications, bans."""
