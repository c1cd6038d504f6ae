-- SKUs split into stock buckets (issue 13): each bucket of a SKU decides in a Redis slot of its own, with a decision
-- sequence of its own. orders.bucket is the bucket that decided the order (the Kafka record's `bucket` header; 0 for every
-- SKU that is not split), where the lifecycle releases its units and the reconciler looks for it; sku_high_water keeps
-- the highest persisted sequence per bucket, since sequences of two buckets say nothing about each other.
ALTER TABLE orders ADD COLUMN IF NOT EXISTS bucket INT NOT NULL DEFAULT 0 COMMENT 'the stock bucket of the SKU that decided the order; 0 when the SKU is not split';

ALTER TABLE sku_high_water ADD COLUMN IF NOT EXISTS bucket INT NOT NULL DEFAULT 0 AFTER sku_id;
ALTER TABLE sku_high_water DROP PRIMARY KEY, ADD PRIMARY KEY (campaign_id, sku_id, bucket);
