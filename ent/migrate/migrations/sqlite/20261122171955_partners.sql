-- Create "partner_grants" table
CREATE TABLE `partner_grants` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `partner_key` text NOT NULL, `benefit_key` text NOT NULL, `idempotency_key` text NOT NULL, `body_hash` text NOT NULL, `params` json NULL, `status` text NOT NULL, `grant_id` text NOT NULL DEFAULT (''), `code` text NOT NULL DEFAULT (''), `expires_at` datetime NULL, `detail` text NOT NULL DEFAULT (''), `attempts` integer NOT NULL DEFAULT (0), `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `member_id` integer NOT NULL, CONSTRAINT `partner_grants_members_member` FOREIGN KEY (`member_id`) REFERENCES `members` (`id`) ON DELETE NO ACTION);
-- Set sequence for "partner_grants" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("partner_grants", 103079215104);
-- Create index "partnergrant_program_id_idempotency_key" to table: "partner_grants"
CREATE UNIQUE INDEX `partnergrant_program_id_idempotency_key` ON `partner_grants` (`program_id`, `idempotency_key`);
-- Create index "partnergrant_member_id_partner_key" to table: "partner_grants"
CREATE INDEX `partnergrant_member_id_partner_key` ON `partner_grants` (`member_id`, `partner_key`);
-- Create index "partnergrant_program_id_status_updated_at" to table: "partner_grants"
CREATE INDEX `partnergrant_program_id_status_updated_at` ON `partner_grants` (`program_id`, `status`, `updated_at`);
-- Create "partner_settings" table
CREATE TABLE `partner_settings` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `partner_key` text NOT NULL, `enabled` bool NOT NULL DEFAULT (true), `config` json NULL, `updated_at` datetime NOT NULL);
-- Set sequence for "partner_settings" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("partner_settings", 107374182400);
-- Create index "partnersetting_program_id_partner_key" to table: "partner_settings"
CREATE UNIQUE INDEX `partnersetting_program_id_partner_key` ON `partner_settings` (`program_id`, `partner_key`);
