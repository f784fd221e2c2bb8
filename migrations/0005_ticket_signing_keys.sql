-- 0005: the Ed25519 keys that sign ticket codes, shared by every pod of one database.
-- One key is active (it signs new codes); retired keys still verify the codes they signed
-- until they are removed. A key configured from TICKET_SIGNING_KEY is registered with its
-- public half only (private_key NULL): the private key never leaves the pods' environment.
-- Keys the database manages (development, test) keep their PKCS#8 private key here.

CREATE TABLE ticket_signing_keys (
    kid         varchar(32) PRIMARY KEY,  -- prefix of the key's RFC 7638 JWK thumbprint, in every code it signs
    public_key  text NOT NULL,            -- SPKI PEM
    private_key text,                     -- PKCS#8 PEM; NULL for a key configured from the environment
    state       varchar(10) NOT NULL CHECK (state IN ('active', 'retired')),
    created_at  timestamptz(3) NOT NULL DEFAULT now(),
    retired_at  timestamptz(3),
    CONSTRAINT ticket_signing_keys_retired_at CHECK ((state = 'retired') = (retired_at IS NOT NULL))
);

-- At most one active key, whatever the writers do.
CREATE UNIQUE INDEX ticket_signing_keys_one_active ON ticket_signing_keys (state) WHERE state = 'active';
