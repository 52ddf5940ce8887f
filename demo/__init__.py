"""`make demo`: the real bot against the loopback stand-ins, one scripted session, no keys."""
