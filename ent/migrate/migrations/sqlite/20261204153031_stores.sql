-- Create "stores" table
CREATE TABLE `stores` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `key` text NOT NULL, `name` text NOT NULL, `brand` text NOT NULL, `created_at` datetime NOT NULL, `store_program_id` integer NULL, CONSTRAINT `stores_store_programs_store_program` FOREIGN KEY (`store_program_id`) REFERENCES `store_programs` (`id`) ON DELETE SET NULL);
-- Set sequence for "stores" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("stores", 137438953472);
-- Create index "store_program_id_key" to table: "stores"
CREATE UNIQUE INDEX `store_program_id_key` ON `stores` (`program_id`, `key`);
-- Create index "store_store_program_id" to table: "stores"
CREATE INDEX `store_store_program_id` ON `stores` (`store_program_id`);
-- Create "store_consents" table
CREATE TABLE `store_consents` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `joined_at` datetime NOT NULL, `channel` text NOT NULL, `text_version` text NOT NULL, `actor` text NOT NULL, `left_at` datetime NULL, `left_by` text NULL, `member_id` integer NOT NULL, `store_program_id` integer NOT NULL, CONSTRAINT `store_consents_members_member` FOREIGN KEY (`member_id`) REFERENCES `members` (`id`) ON DELETE NO ACTION, CONSTRAINT `store_consents_store_programs_store_program` FOREIGN KEY (`store_program_id`) REFERENCES `store_programs` (`id`) ON DELETE NO ACTION);
-- Set sequence for "store_consents" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("store_consents", 141733920768);
-- Create index "storeconsent_member_id_store_program_id" to table: "store_consents"
CREATE INDEX `storeconsent_member_id_store_program_id` ON `store_consents` (`member_id`, `store_program_id`);
-- Create index "storeconsent_store_program_id_left_at_member_id" to table: "store_consents"
CREATE INDEX `storeconsent_store_program_id_left_at_member_id` ON `store_consents` (`store_program_id`, `left_at`, `member_id`);
-- Create "store_programs" table
CREATE TABLE `store_programs` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `key` text NOT NULL, `name` text NOT NULL, `kind` text NOT NULL, `created_at` datetime NOT NULL);
-- Set sequence for "store_programs" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("store_programs", 146028888064);
-- Create index "storeprogram_program_id_key" to table: "store_programs"
CREATE UNIQUE INDEX `storeprogram_program_id_key` ON `store_programs` (`program_id`, `key`);
