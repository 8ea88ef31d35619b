package mqtt

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	"hark/home"
	"hark/internal/testserver"
)

// The MQTT connector's own costs against a real mosquitto on loopback, on this machine:
//
//	go test ./home/mqtt -run '^$' -bench . -benchtime 300x

// BenchmarkCommand is one command, from Do to the broker's acknowledgement (QoS 1).
func BenchmarkCommand(b *testing.B) {
	srv := testserver.StartMosquitto(b, testserver.MosquittoOptions{})
	c := open(b, greenhouse(srv.URL()), Options{Logf: func(string, ...any) {}})
	ctx := context.Background()
	if err := c.Check(ctx); err != nil {
		b.Fatal(err)
	}
	ops := []home.Op{home.TurnOn, home.TurnOff}
	b.ResetTimer()
	for i := range b.N {
		if err := c.Do(ctx, "pump 3", home.Command{Op: ops[i%2]}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReading is a device's reading, from its publication (acknowledged) until State
// returns it.
func BenchmarkReading(b *testing.B) {
	srv := testserver.StartMosquitto(b, testserver.MosquittoOptions{})
	dev := newPeer(b, srv.URL(), "", "")
	c := open(b, greenhouse(srv.URL()), Options{Logf: func(string, ...any) {}})
	ctx := context.Background()
	if err := c.Check(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		want := strconv.Itoa(i)
		dev.publish(b, "greenhouse2/soil", want, false)
		deadline := time.Now().Add(10 * time.Second)
		for {
			st, err := c.State(ctx, "soil moisture")
			if err == nil && st.Value == want {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("reading %s did not arrive: %v %v", want, st, err)
			}
			runtime.Gosched()
		}
	}
}

// BenchmarkLevelCommand is one setpoint command (range check, rounding, the payload template),
// from Do to the broker's acknowledgement (QoS 1).
func BenchmarkLevelCommand(b *testing.B) {
	srv := testserver.StartMosquitto(b, testserver.MosquittoOptions{})
	c := open(b, workshop(srv.URL()), Options{Logf: func(string, ...any) {}})
	ctx := context.Background()
	if err := c.Check(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		if err := c.Do(ctx, "greenhouse heater", home.Command{Op: home.SetTemperature, Temperature: 15 + float64(i%10)}); err != nil {
			b.Fatal(err)
		}
	}
}
