-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_tiers" table
CREATE TABLE `new_tiers` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `key` text NOT NULL, `name` text NOT NULL, `level` integer NOT NULL, `min_score` integer NOT NULL, `description` text NOT NULL DEFAULT (''), `gift_points` integer NOT NULL DEFAULT (0), `gift_benefits` json NULL, `yearly_deduction` integer NOT NULL DEFAULT (0), `program_id` integer NOT NULL, CONSTRAINT `tiers_programs_tiers` FOREIGN KEY (`program_id`) REFERENCES `programs` (`id`) ON DELETE NO ACTION);
-- Set sequence for "new_tiers" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("new_tiers", 12884901888);
-- Copy rows from old table "tiers" to new temporary table "new_tiers"
INSERT INTO `new_tiers` (`id`, `key`, `name`, `level`, `min_score`, `description`, `program_id`) SELECT `id`, `key`, `name`, `level`, `min_score`, `description`, `program_id` FROM `tiers`;
-- Drop "tiers" table after copying rows
DROP TABLE `tiers`;
-- Rename temporary table "new_tiers" to "tiers"
ALTER TABLE `new_tiers` RENAME TO `tiers`;
-- Create index "tier_program_id_key" to table: "tiers"
CREATE UNIQUE INDEX `tier_program_id_key` ON `tiers` (`program_id`, `key`);
-- Create index "tier_program_id_level" to table: "tiers"
CREATE UNIQUE INDEX `tier_program_id_level` ON `tiers` (`program_id`, `level`);
-- Create "activity_months" table
CREATE TABLE `activity_months` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `month` integer NOT NULL, `spend_cents` integer NOT NULL DEFAULT (0), `orders` integer NOT NULL DEFAULT (0), `completed_orders` integer NOT NULL DEFAULT (0), `refunded_orders` integer NOT NULL DEFAULT (0), `purchase_days` integer NOT NULL DEFAULT (0), `login_days` integer NOT NULL DEFAULT (0), `reviews` integer NOT NULL DEFAULT (0), `photo_reviews` integer NOT NULL DEFAULT (0), `answers` integer NOT NULL DEFAULT (0), `shares` integer NOT NULL DEFAULT (0), `check_ins` integer NOT NULL DEFAULT (0), `member_id` integer NOT NULL, CONSTRAINT `activity_months_members_member` FOREIGN KEY (`member_id`) REFERENCES `members` (`id`) ON DELETE NO ACTION);
-- Set sequence for "activity_months" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("activity_months", 51539607552);
-- Create index "activitymonth_member_id_month" to table: "activity_months"
CREATE UNIQUE INDEX `activitymonth_member_id_month` ON `activity_months` (`member_id`, `month`);
-- Create "audit_entries" table
CREATE TABLE `audit_entries` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `actor` text NOT NULL, `action` text NOT NULL, `before` text NOT NULL, `after` text NOT NULL, `created_at` datetime NOT NULL);
-- Set sequence for "audit_entries" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("audit_entries", 55834574848);
-- Create index "auditentry_program_id_created_at" to table: "audit_entries"
CREATE INDEX `auditentry_program_id_created_at` ON `audit_entries` (`program_id`, `created_at`);
-- Create "benefit_claims" table
CREATE TABLE `benefit_claims` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `idempotency_key` text NOT NULL, `period` text NOT NULL, `source` text NOT NULL, `claimed_at` datetime NOT NULL, `member_id` integer NOT NULL, `benefit_id` integer NOT NULL, CONSTRAINT `benefit_claims_members_member` FOREIGN KEY (`member_id`) REFERENCES `members` (`id`) ON DELETE NO ACTION, CONSTRAINT `benefit_claims_benefits_benefit` FOREIGN KEY (`benefit_id`) REFERENCES `benefits` (`id`) ON DELETE NO ACTION);
-- Set sequence for "benefit_claims" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("benefit_claims", 60129542144);
-- Create index "benefitclaim_program_id_idempotency_key" to table: "benefit_claims"
CREATE UNIQUE INDEX `benefitclaim_program_id_idempotency_key` ON `benefit_claims` (`program_id`, `idempotency_key`);
-- Create index "benefitclaim_member_id_benefit_id_period" to table: "benefit_claims"
CREATE INDEX `benefitclaim_member_id_benefit_id_period` ON `benefit_claims` (`member_id`, `benefit_id`, `period`);
-- Create "member_scores" table
CREATE TABLE `member_scores` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `settled` integer NOT NULL DEFAULT (0), `period` integer NOT NULL DEFAULT (0), `settled_at` datetime NULL, `breakdown` json NULL, `reputation` integer NULL, `credit` integer NULL, `counted_through` integer NOT NULL DEFAULT (0), `account_points_counted` integer NOT NULL DEFAULT (0), `member_id` integer NOT NULL, CONSTRAINT `member_scores_members_member` FOREIGN KEY (`member_id`) REFERENCES `members` (`id`) ON DELETE NO ACTION);
-- Set sequence for "member_scores" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("member_scores", 64424509440);
-- Create index "memberscore_member_id" to table: "member_scores"
CREATE UNIQUE INDEX `memberscore_member_id` ON `member_scores` (`member_id`);
-- Create "settlements" table
CREATE TABLE `settlements` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `period` integer NOT NULL, `status` text NOT NULL DEFAULT ('RUNNING'), `started_at` datetime NOT NULL, `finished_at` datetime NULL, `partitions` integer NOT NULL DEFAULT (0), `members` integer NOT NULL DEFAULT (0), `tier_changes` integer NOT NULL DEFAULT (0));
-- Set sequence for "settlements" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("settlements", 68719476736);
-- Create index "settlement_program_id_period" to table: "settlements"
CREATE UNIQUE INDEX `settlement_program_id_period` ON `settlements` (`program_id`, `period`);
-- Create "settlement_partitions" table
CREATE TABLE `settlement_partitions` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `lo` integer NOT NULL, `hi` integer NOT NULL, `status` text NOT NULL DEFAULT ('PENDING'), `worker` text NOT NULL DEFAULT (''), `lease_until` datetime NULL, `members` integer NOT NULL DEFAULT (0), `tier_changes` integer NOT NULL DEFAULT (0), `settlement_id` integer NOT NULL, CONSTRAINT `settlement_partitions_settlements_parts` FOREIGN KEY (`settlement_id`) REFERENCES `settlements` (`id`) ON DELETE NO ACTION);
-- Set sequence for "settlement_partitions" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("settlement_partitions", 73014444032);
-- Create index "settlementpartition_settlement_id_lo" to table: "settlement_partitions"
CREATE UNIQUE INDEX `settlementpartition_settlement_id_lo` ON `settlement_partitions` (`settlement_id`, `lo`);
-- Create "tier_changes" table
CREATE TABLE `tier_changes` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `period` integer NOT NULL, `direction` text NOT NULL, `score` integer NOT NULL, `reason` text NOT NULL, `created_at` datetime NOT NULL, `member_id` integer NOT NULL, `from_tier_id` integer NULL, `to_tier_id` integer NOT NULL, CONSTRAINT `tier_changes_members_member` FOREIGN KEY (`member_id`) REFERENCES `members` (`id`) ON DELETE NO ACTION, CONSTRAINT `tier_changes_tiers_from` FOREIGN KEY (`from_tier_id`) REFERENCES `tiers` (`id`) ON DELETE SET NULL, CONSTRAINT `tier_changes_tiers_to` FOREIGN KEY (`to_tier_id`) REFERENCES `tiers` (`id`) ON DELETE NO ACTION);
-- Set sequence for "tier_changes" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("tier_changes", 77309411328);
-- Create index "tierchange_member_id_period" to table: "tier_changes"
CREATE UNIQUE INDEX `tierchange_member_id_period` ON `tier_changes` (`member_id`, `period`);
-- Create "tier_gifts" table
CREATE TABLE `tier_gifts` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `tier_id` integer NOT NULL, `year` integer NOT NULL, `points` integer NOT NULL, `benefits` json NULL, `status` text NOT NULL DEFAULT ('PENDING'), `created_at` datetime NOT NULL, `granted_at` datetime NULL, `member_id` integer NOT NULL, CONSTRAINT `tier_gifts_members_member` FOREIGN KEY (`member_id`) REFERENCES `members` (`id`) ON DELETE NO ACTION);
-- Set sequence for "tier_gifts" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("tier_gifts", 81604378624);
-- Create index "tiergift_member_id_tier_id_year" to table: "tier_gifts"
CREATE UNIQUE INDEX `tiergift_member_id_tier_id_year` ON `tier_gifts` (`member_id`, `tier_id`, `year`);
-- Create index "tiergift_program_id_status" to table: "tier_gifts"
CREATE INDEX `tiergift_program_id_status` ON `tier_gifts` (`program_id`, `status`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
