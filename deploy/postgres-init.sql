-- One database per service (docs/architecture.md, storage). Run once by the postgres image at first start.
CREATE DATABASE hbcloud_application;
CREATE DATABASE hbcloud_review;
CREATE DATABASE hbcloud_scoring;
CREATE DATABASE hbcloud_subsidy;
CREATE DATABASE hbcloud_audit;
