package home

import (
	"testing"
	"time"
)

// TestAskedAboutAState: "is the front door open?" about a lock is about the door: open is
// unlocked, closed is locked; other kinds answer as before, in English and Chinese.
func TestAskedAboutAState(t *testing.T) {
	door := Entity{ID: "lock.front_door", Name: "Front Door", Kind: "lock"}
	garage := Entity{ID: "cover.garage_door", Name: "Garage Door", Kind: "cover"}
	light := Entity{ID: "light.kitchen", Name: "Kitchen Light", Kind: "light"}
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		e             Entity
		value, expect string
		lang, want    string
	}{
		{door, "unlocked", "open", "en", "Yes, the Front Door is unlocked."},
		{door, "locked", "open", "en", "No, the Front Door is locked."},
		{door, "open", "open", "en", "Yes, the Front Door is open."},
		{door, "locked", "closed", "en", "Yes, the Front Door is locked."},
		{door, "unlocked", "closed", "en", "No, the Front Door is unlocked."},
		{door, "unlocked", "unlocked", "en", "Yes, the Front Door is unlocked."},
		{door, "open", "unlocked", "en", "Yes, the Front Door is open."},
		{door, "locked", "locked", "en", "Yes, the Front Door is locked."},
		{door, "jammed", "locked", "en", "No, the Front Door is jammed."},
		{door, "jammed", "open", "en", "No, the Front Door is jammed."},
		{door, "unlocking", "locked", "en", "No, the Front Door is unlocking."},
		{door, "unlocked", "on", "zh", "是的，Front Door没锁。"}, // 前门开着吗
		{door, "locked", "on", "zh", "不，Front Door锁着。"},
		{door, "locked", "off", "zh", "是的，Front Door锁着。"}, // 前门关着吗
		{door, "locked", "locked", "zh", "是的，Front Door锁着。"},
		{garage, "open", "open", "en", "Yes, the Garage Door is open."},
		{garage, "closed", "open", "en", "No, the Garage Door is closed."},
		{garage, "open", "on", "zh", "是的，Garage Door开着。"},
		{light, "on", "on", "en", "Yes, the Kitchen Light is on."},
		{light, "off", "on", "en", "No, the Kitchen Light is off."},
		{light, "off", "off", "zh", "是的，Kitchen Light关着。"},
	}
	for _, tc := range cases {
		got := sayState(tc.e, State{Value: tc.value, Updated: now}, tc.expect, tc.lang == "zh", now)
		if got != tc.want {
			t.Errorf("%s %s, asked %q (%s): %q, want %q", tc.e.Kind, tc.value, tc.expect, tc.lang, got, tc.want)
		}
	}
}
