-- Create "plus_codes" table
CREATE TABLE `plus_codes` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `hash` text NOT NULL, `redeemed_at` datetime NULL, `term_id` integer NULL, `member_id` integer NULL, `batch_id` integer NOT NULL, CONSTRAINT `plus_codes_members_member` FOREIGN KEY (`member_id`) REFERENCES `members` (`id`) ON DELETE SET NULL, CONSTRAINT `plus_codes_plus_code_batches_codes` FOREIGN KEY (`batch_id`) REFERENCES `plus_code_batches` (`id`) ON DELETE NO ACTION);
-- Set sequence for "plus_codes" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("plus_codes", 120259084288);
-- Create index "pluscode_hash" to table: "plus_codes"
CREATE UNIQUE INDEX `pluscode_hash` ON `plus_codes` (`hash`);
-- Create index "pluscode_batch_id" to table: "plus_codes"
CREATE INDEX `pluscode_batch_id` ON `plus_codes` (`batch_id`);
-- Create index "pluscode_member_id" to table: "plus_codes"
CREATE INDEX `pluscode_member_id` ON `plus_codes` (`member_id`);
-- Create "plus_code_batches" table
CREATE TABLE `plus_code_batches` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `purpose` text NOT NULL, `plan` text NOT NULL, `count` integer NOT NULL, `label` text NOT NULL DEFAULT (''), `expires_at` datetime NOT NULL, `created_by` text NOT NULL, `created_at` datetime NOT NULL, `idempotency_key` text NULL, `body_hash` text NOT NULL DEFAULT (''));
-- Set sequence for "plus_code_batches" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("plus_code_batches", 124554051584);
-- Create index "pluscodebatch_program_id_idempotency_key" to table: "plus_code_batches"
CREATE UNIQUE INDEX `pluscodebatch_program_id_idempotency_key` ON `plus_code_batches` (`program_id`, `idempotency_key`);
-- Create "plus_code_failures" table
CREATE TABLE `plus_code_failures` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `reason` text NOT NULL, `failed_at` datetime NOT NULL, `member_id` integer NOT NULL, CONSTRAINT `plus_code_failures_members_member` FOREIGN KEY (`member_id`) REFERENCES `members` (`id`) ON DELETE NO ACTION);
-- Set sequence for "plus_code_failures" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("plus_code_failures", 128849018880);
-- Create index "pluscodefailure_member_id_failed_at" to table: "plus_code_failures"
CREATE INDEX `pluscodefailure_member_id_failed_at` ON `plus_code_failures` (`member_id`, `failed_at`);
