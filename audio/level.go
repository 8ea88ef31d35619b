package audio

import "math"

// SilenceDB is the level MeasureLevel reports for digital silence (and the floor of every level
// it reports), so levels stay finite and JSON-encodable.
const SilenceDB = -120.0

// Level is the loudness of a stretch of audio in dBFS: 0 is full scale, SilenceDB is the floor.
type Level struct {
	RMS  float64 // root mean square level
	Peak float64 // largest absolute sample
}

// MeasureLevel returns the RMS and peak level of samples. No samples measure as silence.
func MeasureLevel(samples []float32) Level {
	var sum, peak float64
	for _, s := range samples {
		v := float64(s)
		sum += v * v
		if a := math.Abs(v); a > peak {
			peak = a
		}
	}
	if len(samples) == 0 {
		return Level{RMS: SilenceDB, Peak: SilenceDB}
	}
	return Level{RMS: PowerDB(sum / float64(len(samples))), Peak: AmplitudeDB(peak)}
}

// AmplitudeDB converts a linear amplitude (1 = full scale) to dBFS, floored at SilenceDB.
func AmplitudeDB(a float64) float64 {
	if a <= 0 {
		return SilenceDB
	}
	return math.Max(20*math.Log10(a), SilenceDB)
}

// PowerDB converts a mean square (1 = full scale) to dBFS, floored at SilenceDB.
func PowerDB(p float64) float64 {
	if p <= 0 {
		return SilenceDB
	}
	return math.Max(10*math.Log10(p), SilenceDB)
}
