// libespeak-ng.a refers to pcaudio, the audio output library it uses in its playback modes.
// Hark only retrieves samples (AUDIO_OUTPUT_SYNCHRONOUS), so these definitions stand in for
// pcaudio at link time: linking the real one would pull in PulseAudio, ALSA and libsndfile at
// every start of hark (malgo opens the sound system itself, at run time, only when needed).
// Each fails, so a playback mode, were it ever asked for, reports an audio error.
#include <stddef.h>
#include <stdint.h>

struct audio_object;

struct audio_object *create_audio_device_object(const char *device, const char *application_name,
                                                const char *description) {
	(void)device;
	(void)application_name;
	(void)description;
	return NULL;
}
int audio_object_open(struct audio_object *o, int format, uint32_t rate, uint8_t channels) {
	(void)o;
	(void)format;
	(void)rate;
	(void)channels;
	return -1;
}
void audio_object_close(struct audio_object *o) { (void)o; }
void audio_object_destroy(struct audio_object *o) { (void)o; }
int audio_object_write(struct audio_object *o, const void *data, size_t bytes) {
	(void)o;
	(void)data;
	(void)bytes;
	return -1;
}
int audio_object_drain(struct audio_object *o) {
	(void)o;
	return -1;
}
int audio_object_flush(struct audio_object *o) {
	(void)o;
	return -1;
}
const char *audio_object_strerror(struct audio_object *o, int error) {
	(void)o;
	(void)error;
	return "no audio output in Hark's espeak-ng (synchronous mode only)";
}
