-- Modify "point_accounts" table
ALTER TABLE `point_accounts` ADD INDEX `pointaccount_program_id_debt` (`program_id`, `debt`);
-- Modify "point_lots" table
ALTER TABLE `point_lots` DROP INDEX `pointlot_program_id_expires_at_funding_remaining`, ADD INDEX `pointlot_program_id_funding_expires_at_remaining` (`program_id`, `funding`, `expires_at`, `remaining`);
