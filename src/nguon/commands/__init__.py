"""Commands to endpoints (switch on/off, volume, restart, fetch now), delivered and re-pushed
until the device acknowledges them, and the MQTT channel that carries them to radios."""
