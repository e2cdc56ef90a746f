-- Modify "member_scores" table
ALTER TABLE `member_scores` ADD COLUMN `settlement_run` bigint NOT NULL DEFAULT 0;
-- Modify "settlements" table
ALTER TABLE `settlements` ADD COLUMN `run` bigint NOT NULL DEFAULT 1, ADD COLUMN `resettle` bool NOT NULL DEFAULT 0;
-- Modify "settlement_partitions" table
ALTER TABLE `settlement_partitions` ADD COLUMN `run` bigint NOT NULL DEFAULT 1, DROP INDEX `settlementpartition_settlement_id_lo`, ADD UNIQUE INDEX `settlementpartition_settlement_id_run_lo` (`settlement_id`, `run`, `lo`);
-- Modify "tier_changes" table
ALTER TABLE `tier_changes` ADD COLUMN `run` bigint NOT NULL DEFAULT 1, DROP INDEX `tierchange_member_id_period`, ADD UNIQUE INDEX `tierchange_member_id_period_run` (`member_id`, `period`, `run`);
