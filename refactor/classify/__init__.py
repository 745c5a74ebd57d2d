"""Classification: which spatch matches are findings, from the driver's structs and lifetime model."""
