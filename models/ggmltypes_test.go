package models

import "testing"

// TestTensorBytes: sizes of tensors of the types the engines read, the newest included
// (llama.cpp's ggml reads types 40-42 now, as whisper.cpp's does), and the types they do not.
func TestTensorBytes(t *testing.T) {
	tests := []struct {
		typ  uint32
		ne   []int64
		want int64 // -1: an error
	}{
		{0, []int64{10, 3}, 120},           // f32
		{2, []int64{64, 2}, 2 * 2 * 18},    // q4_0: 2 blocks a row
		{12, []int64{512}, 2 * 144},        // q4_K
		{39, []int64{64}, 2 * 17},          // mxfp4
		{40, []int64{128, 4}, 4 * 2 * 36},  // nvfp4
		{41, []int64{256}, 2 * 18},         // q1_0
		{42, []int64{128, 3}, 3 * 2 * 18},  // q2_0
		{42, []int64{100}, -1},             // a row that is not whole blocks
		{31, []int64{64}, -1},              // q4_0_4_4, removed from ggml
		{43, []int64{64}, -1},              // newer than the engines
		{2, []int64{64, 0}, -1},            // an empty dimension
		{0, []int64{1 << 40, 1 << 40}, -1}, // overflows
	}
	for _, tt := range tests {
		got, err := tensorBytes(tt.typ, tt.ne)
		if tt.want < 0 {
			if err == nil {
				t.Errorf("type %d %v: %d bytes, want an error", tt.typ, tt.ne, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("type %d %v: %d, %v; want %d", tt.typ, tt.ne, got, err, tt.want)
		}
	}
}
