-- Modify "benefit_claims" table
ALTER TABLE `benefit_claims` MODIFY COLUMN `idempotency_key` varchar(128) NOT NULL COLLATE utf8mb4_nopad_bin;
-- Modify "events" table
ALTER TABLE `events` MODIFY COLUMN `idempotency_key` varchar(128) NOT NULL COLLATE utf8mb4_nopad_bin, MODIFY COLUMN `order_id` varchar(64) NULL COLLATE utf8mb4_nopad_bin;
-- Modify "members" table
ALTER TABLE `members` MODIFY COLUMN `external_id` varchar(64) NOT NULL COLLATE utf8mb4_nopad_bin;
-- Modify "partner_grants" table
ALTER TABLE `partner_grants` MODIFY COLUMN `idempotency_key` varchar(128) NOT NULL COLLATE utf8mb4_nopad_bin;
-- Modify "plus_code_batches" table
ALTER TABLE `plus_code_batches` MODIFY COLUMN `idempotency_key` varchar(128) NULL COLLATE utf8mb4_nopad_bin;
-- Modify "plus_requests" table
ALTER TABLE `plus_requests` MODIFY COLUMN `key` varchar(128) NOT NULL COLLATE utf8mb4_nopad_bin;
-- Modify "plus_terms" table
ALTER TABLE `plus_terms` MODIFY COLUMN `idempotency_key` varchar(128) NOT NULL COLLATE utf8mb4_nopad_bin;
-- Modify "point_entries" table
ALTER TABLE `point_entries` MODIFY COLUMN `request_key` varchar(128) NULL COLLATE utf8mb4_nopad_bin;
-- Modify "point_requests" table
ALTER TABLE `point_requests` MODIFY COLUMN `key` varchar(128) NOT NULL COLLATE utf8mb4_nopad_bin;
-- Modify "refusals" table
ALTER TABLE `refusals` MODIFY COLUMN `key` varchar(128) NOT NULL COLLATE utf8mb4_nopad_bin;
-- Modify "store_budgets" table
ALTER TABLE `store_budgets` MODIFY COLUMN `store_id` varchar(64) NOT NULL COLLATE utf8mb4_nopad_bin;
-- Modify "store_fundings" table
ALTER TABLE `store_fundings` MODIFY COLUMN `store_id` varchar(64) NOT NULL COLLATE utf8mb4_nopad_bin, MODIFY COLUMN `key` varchar(128) NOT NULL COLLATE utf8mb4_nopad_bin;
