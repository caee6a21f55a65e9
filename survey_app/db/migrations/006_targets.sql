-- Yearly SIPAS targets per unit (Hà Nội set 92.55 for 2022), imported by an admin from CSV
-- (`python -m survey_app targets import`, admin page "Dữ liệu"); optionally per element.
CREATE TABLE targets (
    unit_id    VARCHAR NOT NULL,
    year       INTEGER NOT NULL,
    sipas      DOUBLE PRECISION NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (unit_id, year)
);

CREATE TABLE element_targets (
    unit_id    VARCHAR NOT NULL,
    year       INTEGER NOT NULL,
    element_id VARCHAR NOT NULL,
    target     DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (unit_id, year, element_id)
);
