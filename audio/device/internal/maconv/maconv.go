// Package maconv runs miniaudio's own sample-rate converter (the linear resampler with the
// low-pass filter a miniaudio device uses by default), so that tests can measure it against
// audio.Resampler. It exists for TestConversionChoice; Hark does not convert with it.
package maconv

/*
#include <stdlib.h>
#include <miniaudio/miniaudio_malgo.h>

static int hark_linear(const float* in, ma_uint64 nIn, float* out, ma_uint64* nOut, ma_uint32 rateIn, ma_uint32 rateOut) {
	ma_resampler_config cfg = ma_resampler_config_init(ma_format_f32, 1, rateIn, rateOut, ma_resample_algorithm_linear);
	ma_resampler r;
	if (ma_resampler_init(&cfg, NULL, &r) != MA_SUCCESS) return -1;
	ma_result res = ma_resampler_process_pcm_frames(&r, in, &nIn, out, nOut);
	ma_resampler_uninit(&r, NULL);
	return res == MA_SUCCESS ? 0 : -2;
}

static ma_uint32 hark_default_lpf_order(void) {
	ma_device_config c = ma_device_config_init(ma_device_type_capture);
	return c.resampling.linear.lpfOrder;
}
*/
import "C"

import (
	"fmt"
	"unsafe"

	_ "github.com/gen2brain/malgo" // links the miniaudio implementation
)

// Linear resamples mono samples with miniaudio's linear resampler and its default low-pass
// filter order.
func Linear(in []float32, inRate, outRate int) ([]float32, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]float32, len(in)*outRate/inRate+16)
	n := C.ma_uint64(len(out))
	// Go memory, read and written by C only during the call.
	rc := C.hark_linear((*C.float)(unsafe.Pointer(&in[0])), C.ma_uint64(len(in)), (*C.float)(unsafe.Pointer(&out[0])), &n, C.ma_uint32(inRate), C.ma_uint32(outRate))
	if rc != 0 {
		return nil, fmt.Errorf("maconv: miniaudio resampler failed (%d)", int(rc))
	}
	return out[:n], nil
}

// DefaultLPFOrder is the low-pass filter order a miniaudio device's linear resampler uses.
func DefaultLPFOrder() int { return int(C.hark_default_lpf_order()) }
