"""A small client for the OCI distribution API on the standard library: transport rules
(`transport`), authentication (`auth`), error mapping (`errors`) and the request loop
(`client`)."""
