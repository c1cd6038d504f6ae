-- Catalog database: what is on sale. Amounts are DECIMAL, instants are UTC DATETIME(3).
CREATE TABLE IF NOT EXISTS campaigns (
    campaign_id            VARCHAR(64)  NOT NULL,
    starts_at              DATETIME(3)  NOT NULL,
    ends_at                DATETIME(3)  NOT NULL,
    payment_window_seconds INT          NOT NULL,
    fingerprint            CHAR(64)     NOT NULL COMMENT 'SHA-256 of the canonical definition: same definition again is idempotent',
    created_at             DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (campaign_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE IF NOT EXISTS campaign_skus (
    campaign_id    VARCHAR(64)    NOT NULL,
    sku_id         BIGINT         NOT NULL,
    price          DECIMAL(12, 2) NOT NULL,
    total_stock    INT            NOT NULL,
    per_user_limit INT            NOT NULL,
    PRIMARY KEY (campaign_id, sku_id),
    CONSTRAINT fk_campaign_skus_campaign FOREIGN KEY (campaign_id) REFERENCES campaigns (campaign_id),
    CONSTRAINT chk_campaign_skus_price CHECK (price > 0),
    CONSTRAINT chk_campaign_skus_stock CHECK (total_stock >= 0),
    CONSTRAINT chk_campaign_skus_limit CHECK (per_user_limit >= 1)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
