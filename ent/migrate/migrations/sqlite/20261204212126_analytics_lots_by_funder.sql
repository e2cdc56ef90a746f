-- Create index "pointaccount_program_id_debt" to table: "point_accounts"
CREATE INDEX `pointaccount_program_id_debt` ON `point_accounts` (`program_id`, `debt`);
-- Drop index "pointlot_program_id_expires_at_funding_remaining" from table: "point_lots"
DROP INDEX `pointlot_program_id_expires_at_funding_remaining`;
-- Create index "pointlot_program_id_funding_expires_at_remaining" to table: "point_lots"
CREATE INDEX `pointlot_program_id_funding_expires_at_remaining` ON `point_lots` (`program_id`, `funding`, `expires_at`, `remaining`);
