-- Ids from outside are exact: the tables' DEFAULT CHARSET clause gave these columns the charset's
-- case-insensitive collation. For campaign ids that let a different-case alias read a campaign's orders;
-- for provider_txn_id it made 'PAY-1' a replay of 'pay-1', answering one order's callback with another's
-- recorded outcome. Binary collation matches Redis and the provider. This rebuilds the tables: run it
-- before a sale, not during one.
ALTER TABLE orders MODIFY campaign_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL;
ALTER TABLE inventory_log MODIFY campaign_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL;
ALTER TABLE counter_outbox MODIFY campaign_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL;
ALTER TABLE payments MODIFY provider_txn_id VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL;
