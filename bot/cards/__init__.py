"""Training support through the vocational training card (Thẻ học nghề): the dated rules,
cards and their entitlement, redemption by institutions, what the support pays, settlement."""
