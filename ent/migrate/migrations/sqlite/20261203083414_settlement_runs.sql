-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_member_scores" table
CREATE TABLE `new_member_scores` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `settled` integer NOT NULL DEFAULT (0), `period` integer NOT NULL DEFAULT (0), `settled_at` datetime NULL, `breakdown` json NULL, `reputation` integer NULL, `credit` integer NULL, `counted_through` integer NOT NULL DEFAULT (0), `account_points_counted` integer NOT NULL DEFAULT (0), `settlement_run` integer NOT NULL DEFAULT (0), `member_id` integer NOT NULL, CONSTRAINT `member_scores_members_member` FOREIGN KEY (`member_id`) REFERENCES `members` (`id`) ON DELETE NO ACTION);
-- Set sequence for "new_member_scores" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("new_member_scores", 64424509440);
-- Copy rows from old table "member_scores" to new temporary table "new_member_scores"
INSERT INTO `new_member_scores` (`id`, `program_id`, `settled`, `period`, `settled_at`, `breakdown`, `reputation`, `credit`, `counted_through`, `account_points_counted`, `member_id`) SELECT `id`, `program_id`, `settled`, `period`, `settled_at`, `breakdown`, `reputation`, `credit`, `counted_through`, `account_points_counted`, `member_id` FROM `member_scores`;
-- Drop "member_scores" table after copying rows
DROP TABLE `member_scores`;
-- Rename temporary table "new_member_scores" to "member_scores"
ALTER TABLE `new_member_scores` RENAME TO `member_scores`;
-- Create index "memberscore_member_id" to table: "member_scores"
CREATE UNIQUE INDEX `memberscore_member_id` ON `member_scores` (`member_id`);
-- Create "new_settlements" table
CREATE TABLE `new_settlements` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `period` integer NOT NULL, `status` text NOT NULL DEFAULT ('RUNNING'), `started_at` datetime NOT NULL, `finished_at` datetime NULL, `partitions` integer NOT NULL DEFAULT (0), `run` integer NOT NULL DEFAULT (1), `resettle` bool NOT NULL DEFAULT (false), `members` integer NOT NULL DEFAULT (0), `tier_changes` integer NOT NULL DEFAULT (0));
-- Set sequence for "new_settlements" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("new_settlements", 68719476736);
-- Copy rows from old table "settlements" to new temporary table "new_settlements"
INSERT INTO `new_settlements` (`id`, `program_id`, `period`, `status`, `started_at`, `finished_at`, `partitions`, `members`, `tier_changes`) SELECT `id`, `program_id`, `period`, `status`, `started_at`, `finished_at`, `partitions`, `members`, `tier_changes` FROM `settlements`;
-- Drop "settlements" table after copying rows
DROP TABLE `settlements`;
-- Rename temporary table "new_settlements" to "settlements"
ALTER TABLE `new_settlements` RENAME TO `settlements`;
-- Create index "settlement_program_id_period" to table: "settlements"
CREATE UNIQUE INDEX `settlement_program_id_period` ON `settlements` (`program_id`, `period`);
-- Create "new_settlement_partitions" table
CREATE TABLE `new_settlement_partitions` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `run` integer NOT NULL DEFAULT (1), `lo` integer NOT NULL, `hi` integer NOT NULL, `status` text NOT NULL DEFAULT ('PENDING'), `worker` text NOT NULL DEFAULT (''), `lease_until` datetime NULL, `members` integer NOT NULL DEFAULT (0), `tier_changes` integer NOT NULL DEFAULT (0), `settlement_id` integer NOT NULL, CONSTRAINT `settlement_partitions_settlements_parts` FOREIGN KEY (`settlement_id`) REFERENCES `settlements` (`id`) ON DELETE NO ACTION);
-- Set sequence for "new_settlement_partitions" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("new_settlement_partitions", 73014444032);
-- Copy rows from old table "settlement_partitions" to new temporary table "new_settlement_partitions"
INSERT INTO `new_settlement_partitions` (`id`, `program_id`, `lo`, `hi`, `status`, `worker`, `lease_until`, `members`, `tier_changes`, `settlement_id`) SELECT `id`, `program_id`, `lo`, `hi`, `status`, `worker`, `lease_until`, `members`, `tier_changes`, `settlement_id` FROM `settlement_partitions`;
-- Drop "settlement_partitions" table after copying rows
DROP TABLE `settlement_partitions`;
-- Rename temporary table "new_settlement_partitions" to "settlement_partitions"
ALTER TABLE `new_settlement_partitions` RENAME TO `settlement_partitions`;
-- Create index "settlementpartition_settlement_id_run_lo" to table: "settlement_partitions"
CREATE UNIQUE INDEX `settlementpartition_settlement_id_run_lo` ON `settlement_partitions` (`settlement_id`, `run`, `lo`);
-- Create "new_tier_changes" table
CREATE TABLE `new_tier_changes` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `period` integer NOT NULL, `direction` text NOT NULL, `score` integer NOT NULL, `reason` text NOT NULL, `created_at` datetime NOT NULL, `run` integer NOT NULL DEFAULT (1), `member_id` integer NOT NULL, `from_tier_id` integer NULL, `to_tier_id` integer NOT NULL, CONSTRAINT `tier_changes_members_member` FOREIGN KEY (`member_id`) REFERENCES `members` (`id`) ON DELETE NO ACTION, CONSTRAINT `tier_changes_tiers_from` FOREIGN KEY (`from_tier_id`) REFERENCES `tiers` (`id`) ON DELETE SET NULL, CONSTRAINT `tier_changes_tiers_to` FOREIGN KEY (`to_tier_id`) REFERENCES `tiers` (`id`) ON DELETE NO ACTION);
-- Set sequence for "new_tier_changes" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("new_tier_changes", 77309411328);
-- Copy rows from old table "tier_changes" to new temporary table "new_tier_changes"
INSERT INTO `new_tier_changes` (`id`, `program_id`, `period`, `direction`, `score`, `reason`, `created_at`, `member_id`, `from_tier_id`, `to_tier_id`) SELECT `id`, `program_id`, `period`, `direction`, `score`, `reason`, `created_at`, `member_id`, `from_tier_id`, `to_tier_id` FROM `tier_changes`;
-- Drop "tier_changes" table after copying rows
DROP TABLE `tier_changes`;
-- Rename temporary table "new_tier_changes" to "tier_changes"
ALTER TABLE `new_tier_changes` RENAME TO `tier_changes`;
-- Create index "tierchange_member_id_period_run" to table: "tier_changes"
CREATE UNIQUE INDEX `tierchange_member_id_period_run` ON `tier_changes` (`member_id`, `period`, `run`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
