-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_benefits" table
CREATE TABLE `new_benefits` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `key` text NOT NULL, `name` text NOT NULL, `kind` text NOT NULL, `description` text NOT NULL DEFAULT (''), `face_value_cents` integer NOT NULL DEFAULT (0), `quota` integer NOT NULL DEFAULT (0), `quota_period` text NOT NULL DEFAULT ('NONE'), `program_id` integer NOT NULL, CONSTRAINT `benefits_programs_benefits` FOREIGN KEY (`program_id`) REFERENCES `programs` (`id`) ON DELETE NO ACTION);
-- Copy rows from old table "benefits" to new temporary table "new_benefits"
INSERT INTO `new_benefits` (`id`, `key`, `name`, `kind`, `description`, `quota`, `quota_period`, `program_id`) SELECT `id`, `key`, `name`, `kind`, `description`, `quota`, `quota_period`, `program_id` FROM `benefits`;
-- Drop "benefits" table after copying rows
DROP TABLE `benefits`;
-- Rename temporary table "new_benefits" to "benefits"
ALTER TABLE `new_benefits` RENAME TO `benefits`;
-- Create index "benefit_program_id_key" to table: "benefits"
CREATE UNIQUE INDEX `benefit_program_id_key` ON `benefits` (`program_id`, `key`);
-- Create "new_benefit_claims" table
CREATE TABLE `new_benefit_claims` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `idempotency_key` text NOT NULL, `period` text NOT NULL, `source` text NOT NULL, `face_value_cents` integer NOT NULL DEFAULT (0), `claimed_at` datetime NOT NULL, `member_id` integer NOT NULL, `benefit_id` integer NOT NULL, CONSTRAINT `benefit_claims_members_member` FOREIGN KEY (`member_id`) REFERENCES `members` (`id`) ON DELETE NO ACTION, CONSTRAINT `benefit_claims_benefits_benefit` FOREIGN KEY (`benefit_id`) REFERENCES `benefits` (`id`) ON DELETE NO ACTION);
-- Set sequence for "new_benefit_claims" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("new_benefit_claims", 60129542144);
-- Copy rows from old table "benefit_claims" to new temporary table "new_benefit_claims"
INSERT INTO `new_benefit_claims` (`id`, `program_id`, `idempotency_key`, `period`, `source`, `claimed_at`, `member_id`, `benefit_id`) SELECT `id`, `program_id`, `idempotency_key`, `period`, `source`, `claimed_at`, `member_id`, `benefit_id` FROM `benefit_claims`;
-- Drop "benefit_claims" table after copying rows
DROP TABLE `benefit_claims`;
-- Rename temporary table "new_benefit_claims" to "benefit_claims"
ALTER TABLE `new_benefit_claims` RENAME TO `benefit_claims`;
-- Create index "benefitclaim_program_id_idempotency_key" to table: "benefit_claims"
CREATE UNIQUE INDEX `benefitclaim_program_id_idempotency_key` ON `benefit_claims` (`program_id`, `idempotency_key`);
-- Create index "benefitclaim_member_id_benefit_id_period" to table: "benefit_claims"
CREATE INDEX `benefitclaim_member_id_benefit_id_period` ON `benefit_claims` (`member_id`, `benefit_id`, `period`);
-- Create "plus_requests" table
CREATE TABLE `plus_requests` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `key` text NOT NULL, `body_hash` text NOT NULL, `op` text NOT NULL, `term_id` integer NULL, `refundable_cents` integer NOT NULL DEFAULT (0), `error_code` text NOT NULL DEFAULT (''), `error_field` text NOT NULL DEFAULT (''), `error_message` text NOT NULL DEFAULT (''), `created_at` datetime NOT NULL, `member_id` integer NOT NULL, CONSTRAINT `plus_requests_members_member` FOREIGN KEY (`member_id`) REFERENCES `members` (`id`) ON DELETE NO ACTION);
-- Set sequence for "plus_requests" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("plus_requests", 111669149696);
-- Create index "plusrequest_program_id_key" to table: "plus_requests"
CREATE UNIQUE INDEX `plusrequest_program_id_key` ON `plus_requests` (`program_id`, `key`);
-- Create "plus_terms" table
CREATE TABLE `plus_terms` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `plan` text NOT NULL, `source` text NOT NULL, `start_at` datetime NOT NULL, `end_at` datetime NOT NULL, `planned_end_at` datetime NOT NULL, `price_paid_cents` integer NOT NULL DEFAULT (0), `payment_ref` text NOT NULL DEFAULT (''), `idempotency_key` text NOT NULL, `body_hash` text NOT NULL, `bundled` json NULL, `cancelled_at` datetime NULL, `cancel_reason` text NOT NULL DEFAULT (''), `refunded_at` datetime NULL, `refund_cents` integer NOT NULL DEFAULT (0), `end_recorded_at` datetime NULL, `created_at` datetime NOT NULL, `member_id` integer NOT NULL, CONSTRAINT `plus_terms_members_member` FOREIGN KEY (`member_id`) REFERENCES `members` (`id`) ON DELETE NO ACTION);
-- Set sequence for "plus_terms" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("plus_terms", 115964116992);
-- Create index "plusterm_program_id_idempotency_key" to table: "plus_terms"
CREATE UNIQUE INDEX `plusterm_program_id_idempotency_key` ON `plus_terms` (`program_id`, `idempotency_key`);
-- Create index "plusterm_member_id_end_at" to table: "plus_terms"
CREATE INDEX `plusterm_member_id_end_at` ON `plus_terms` (`member_id`, `end_at`);
-- Create index "plusterm_program_id_end_recorded_at_end_at" to table: "plus_terms"
CREATE INDEX `plusterm_program_id_end_recorded_at_end_at` ON `plus_terms` (`program_id`, `end_recorded_at`, `end_at`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
