-- Badges and the lead code (docs/api.md, "Badges").
--
-- A badge carries a lead QR apart from the entry ticket: the
-- registration's lead code, an opaque random string ("RCL" and 32
-- hexadecimal digits, 122 random bits from gen_random_uuid) that holds no
-- personal data and is mapped to the registration here. The door refuses
-- it (it is not a signed ticket); sponsor booths accept it. The volatile
-- default gives every existing registration its own code.
ALTER TABLE registrations ADD COLUMN lead_code text NOT NULL
    DEFAULT ('RCL' || upper(replace(gen_random_uuid()::text, '-', '')));
ALTER TABLE registrations ADD CONSTRAINT registrations_lead_code
    UNIQUE (lead_code);

-- Whether sponsor booths still accept the entry ticket (older badges
-- carry only that); an event can insist on the lead code.
ALTER TABLE events ADD COLUMN booth_accepts_ticket boolean NOT NULL
    DEFAULT true;

-- A door token may fetch the badge of a registration it just admitted.
CREATE INDEX checkins_admitted_by ON checkins (registration_id, door_jti)
    WHERE verdict = 'admitted';
