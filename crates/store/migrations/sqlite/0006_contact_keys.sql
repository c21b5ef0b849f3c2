-- A contact's OpenPGP public key (armoured): notices to that address are
-- sent encrypted to it (PGP/MIME).
ALTER TABLE org_contacts ADD COLUMN openpgp_key TEXT;
