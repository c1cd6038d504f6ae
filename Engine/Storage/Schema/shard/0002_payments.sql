-- Payment callbacks, one row per provider transaction (the provider's retries are absorbed here),
-- in the shard of the order they pay for.
CREATE TABLE IF NOT EXISTS payments (
    id              BIGINT         NOT NULL AUTO_INCREMENT,
    provider_txn_id VARCHAR(128)   NOT NULL,
    order_no        BIGINT         NOT NULL,
    amount          DECIMAL(12, 2) NOT NULL,
    provider_status VARCHAR(20)    NOT NULL COMMENT 'succeeded | failed, as the provider said',
    outcome         VARCHAR(30)    NOT NULL COMMENT 'applied | failed | amount-mismatch | refund-required',
    created_at      DATETIME(3)    NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_payments_provider_txn (provider_txn_id),
    KEY idx_payments_order (order_no),
    KEY idx_payments_outcome (outcome, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- A cancelled order's units go back to Redis after the cancel commits; until that is confirmed the
-- order is "unreleased", and the release is retried (idempotently) until it is.
ALTER TABLE orders ADD COLUMN IF NOT EXISTS stock_released TINYINT NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS idx_orders_unreleased ON orders (status, stock_released);
