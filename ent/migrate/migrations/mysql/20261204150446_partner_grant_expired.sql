-- Modify "partner_grants" table
ALTER TABLE `partner_grants` MODIFY COLUMN `status` enum('PENDING','GRANTED','REFUSED','REVOKED','EXPIRED') NOT NULL;
