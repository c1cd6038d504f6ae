-- The identity of the Redis server whose decisions the engine trusts: its run_id and replication id when
-- the engine last knew it held everything it had acknowledged. Every Ingress and Persister compares the
-- Redis it talks to with this row (Engine/Fencing): another identity (a restart, a failover) may have
-- forgotten decisions, so its live SKUs are fenced until the reconciler has rebuilt them, and only then is
-- the new identity recorded here. Kept in MySQL so that a process started after the change still knows.
CREATE TABLE IF NOT EXISTS trusted_redis (
    name           VARCHAR(32)  COLLATE utf8mb4_bin NOT NULL COMMENT 'which Redis: ''decisions'' (the one deciding reservations)',
    run_id         VARCHAR(64)  COLLATE utf8mb4_bin NOT NULL,
    replication_id VARCHAR(64)  COLLATE utf8mb4_bin NOT NULL,
    trusted_at     DATETIME(3)  NOT NULL,
    PRIMARY KEY (name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
