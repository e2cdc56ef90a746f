-- Create "events" table
CREATE TABLE `events` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `idempotency_key` text NOT NULL, `kind` text NOT NULL, `channel` text NOT NULL, `occurred_at` datetime NOT NULL, `recorded_at` datetime NOT NULL, `order_id` text NULL, `body_hash` text NOT NULL, `body` json NOT NULL, `outcome` json NOT NULL, `member_id` integer NOT NULL, CONSTRAINT `events_members_member` FOREIGN KEY (`member_id`) REFERENCES `members` (`id`) ON DELETE NO ACTION);
-- Set sequence for "events" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("events", 17179869184);
-- Create index "event_program_id_idempotency_key" to table: "events"
CREATE UNIQUE INDEX `event_program_id_idempotency_key` ON `events` (`program_id`, `idempotency_key`);
-- Create index "event_member_id_kind_order_id" to table: "events"
CREATE INDEX `event_member_id_kind_order_id` ON `events` (`member_id`, `kind`, `order_id`);
-- Create index "event_member_id_occurred_at" to table: "events"
CREATE INDEX `event_member_id_occurred_at` ON `events` (`member_id`, `occurred_at`);
-- Create "point_accounts" table
CREATE TABLE `point_accounts` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `total` integer NOT NULL DEFAULT (0), `debt` integer NOT NULL DEFAULT (0), `member_id` integer NOT NULL, CONSTRAINT `point_accounts_members_member` FOREIGN KEY (`member_id`) REFERENCES `members` (`id`) ON DELETE NO ACTION);
-- Set sequence for "point_accounts" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("point_accounts", 21474836480);
-- Create index "pointaccount_member_id" to table: "point_accounts"
CREATE UNIQUE INDEX `pointaccount_member_id` ON `point_accounts` (`member_id`);
-- Create "point_allocations" table
CREATE TABLE `point_allocations` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `entry_id` integer NOT NULL, `lot_id` integer NOT NULL, `amount` integer NOT NULL, `member_id` integer NOT NULL, CONSTRAINT `point_allocations_members_member` FOREIGN KEY (`member_id`) REFERENCES `members` (`id`) ON DELETE NO ACTION);
-- Set sequence for "point_allocations" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("point_allocations", 25769803776);
-- Create index "pointallocation_entry_id" to table: "point_allocations"
CREATE INDEX `pointallocation_entry_id` ON `point_allocations` (`entry_id`);
-- Create "point_entries" table
CREATE TABLE `point_entries` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `amount` integer NOT NULL, `kind` text NOT NULL, `funding` text NOT NULL, `description` text NOT NULL, `event_id` integer NULL, `request_key` text NULL, `order_id` text NULL, `sku` text NULL, `reversed_entry_id` integer NULL, `created_at` datetime NOT NULL, `expires_at` datetime NULL, `available_at` datetime NULL, `member_id` integer NOT NULL, CONSTRAINT `point_entries_members_member` FOREIGN KEY (`member_id`) REFERENCES `members` (`id`) ON DELETE NO ACTION);
-- Set sequence for "point_entries" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("point_entries", 30064771072);
-- Create index "point_entries_reversed_entry_id_key" to table: "point_entries"
CREATE UNIQUE INDEX `point_entries_reversed_entry_id_key` ON `point_entries` (`reversed_entry_id`);
-- Create index "pointentry_member_id_created_at" to table: "point_entries"
CREATE INDEX `pointentry_member_id_created_at` ON `point_entries` (`member_id`, `created_at`);
-- Create index "pointentry_member_id_order_id_sku" to table: "point_entries"
CREATE INDEX `pointentry_member_id_order_id_sku` ON `point_entries` (`member_id`, `order_id`, `sku`);
-- Create index "pointentry_program_id_request_key" to table: "point_entries"
CREATE INDEX `pointentry_program_id_request_key` ON `point_entries` (`program_id`, `request_key`);
-- Create "point_lots" table
CREATE TABLE `point_lots` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `order_id` text NULL, `sku` text NULL, `remaining` integer NOT NULL, `expires_at` datetime NOT NULL, `available_at` datetime NOT NULL, `member_id` integer NOT NULL, CONSTRAINT `point_lots_members_member` FOREIGN KEY (`member_id`) REFERENCES `members` (`id`) ON DELETE NO ACTION);
-- Set sequence for "point_lots" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("point_lots", 34359738368);
-- Create index "pointlot_member_id_expires_at" to table: "point_lots"
CREATE INDEX `pointlot_member_id_expires_at` ON `point_lots` (`member_id`, `expires_at`);
-- Create "point_requests" table
CREATE TABLE `point_requests` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `key` text NOT NULL, `body_hash` text NOT NULL, `entry_id` integer NULL, `created_at` datetime NOT NULL, `member_id` integer NOT NULL, CONSTRAINT `point_requests_members_member` FOREIGN KEY (`member_id`) REFERENCES `members` (`id`) ON DELETE NO ACTION);
-- Set sequence for "point_requests" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("point_requests", 38654705664);
-- Create index "pointrequest_program_id_key" to table: "point_requests"
CREATE UNIQUE INDEX `pointrequest_program_id_key` ON `point_requests` (`program_id`, `key`);
-- Create "store_budgets" table
CREATE TABLE `store_budgets` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `store_id` text NOT NULL, `funded` integer NOT NULL DEFAULT (0), `granted` integer NOT NULL DEFAULT (0));
-- Set sequence for "store_budgets" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("store_budgets", 42949672960);
-- Create index "storebudget_program_id_store_id" to table: "store_budgets"
CREATE UNIQUE INDEX `storebudget_program_id_store_id` ON `store_budgets` (`program_id`, `store_id`);
-- Create "store_fundings" table
CREATE TABLE `store_fundings` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `store_id` text NOT NULL, `points` integer NOT NULL, `reason` text NOT NULL, `key` text NOT NULL, `body_hash` text NOT NULL, `actor` text NOT NULL, `created_at` datetime NOT NULL);
-- Set sequence for "store_fundings" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("store_fundings", 47244640256);
-- Create index "storefunding_program_id_key" to table: "store_fundings"
CREATE UNIQUE INDEX `storefunding_program_id_key` ON `store_fundings` (`program_id`, `key`);
-- Create index "storefunding_program_id_store_id" to table: "store_fundings"
CREATE INDEX `storefunding_program_id_store_id` ON `store_fundings` (`program_id`, `store_id`);
