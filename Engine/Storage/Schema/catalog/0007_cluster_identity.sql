-- A Redis Cluster's identity is every primary's run_id and replication id, joined by commas in the same order
-- (Engine/Fencing/RedisIdentity.cs): 41 characters per primary, so room for about fifty primaries.
ALTER TABLE trusted_redis
    MODIFY run_id         VARCHAR(2048) COLLATE utf8mb4_bin NOT NULL,
    MODIFY replication_id VARCHAR(2048) COLLATE utf8mb4_bin NOT NULL;
