// Routes libasound's error messages to Go (alsalog.go).
int hark_alsa_quiet(void);
