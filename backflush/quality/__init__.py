"""Quality records that gate the floor: label approval before packout, NCMR holds on lots."""
