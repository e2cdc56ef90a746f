-- Modify "benefit_claims" table
ALTER TABLE `benefit_claims` MODIFY COLUMN `source` enum('CLAIM','TIER_GIFT','MEDAL','PLUS','COUPON') NOT NULL;
-- Modify "campaigns" table
ALTER TABLE `campaigns` ADD COLUMN `valid_days` bigint NOT NULL DEFAULT 0;
-- Modify "campaign_results" table
ALTER TABLE `campaign_results` MODIFY COLUMN `status` enum('DONE','SKIPPED','FAILED','PENDING') NOT NULL;
-- Create "coupons" table
CREATE TABLE `coupons` (`id` bigint NOT NULL AUTO_INCREMENT, `program_id` bigint NOT NULL, `campaign_id` bigint NOT NULL, `run_id` bigint NOT NULL, `campaign_key` varchar(48) NOT NULL, `issued_at` datetime(6) NOT NULL, `expires_at` datetime(6) NOT NULL, `used_at` datetime(6) NULL, `claim_id` bigint NULL, `member_id` bigint NOT NULL, `benefit_id` bigint NOT NULL, PRIMARY KEY (`id`), INDEX `coupons_benefits_benefit` (`benefit_id`), INDEX `coupon_member_id_benefit_id_expires_at` (`member_id`, `benefit_id`, `expires_at`), UNIQUE INDEX `coupon_run_id_member_id` (`run_id`, `member_id`), CONSTRAINT `coupons_benefits_benefit` FOREIGN KEY (`benefit_id`) REFERENCES `benefits` (`id`) ON UPDATE RESTRICT ON DELETE NO ACTION, CONSTRAINT `coupons_members_member` FOREIGN KEY (`member_id`) REFERENCES `members` (`id`) ON UPDATE RESTRICT ON DELETE NO ACTION) CHARSET utf8mb4 COLLATE utf8mb4_bin AUTO_INCREMENT 193273528320;
