"""The matching engine layer: record layouts (``codes``), instruments, the
compiled engine (``engine.Engine``) and its pure-Python twin
(``reference.ReferenceEngine``)."""
