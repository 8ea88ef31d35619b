package hass

import (
	"context"
	"fmt"
	"testing"

	"hark/internal/hasstest"
)

// Reading the areas from Home Assistant's registries over the WebSocket API, against the
// stand-in on loopback, for a home of 500 entities on 100 devices in 20 areas:
//
//	go test ./home/hass -run '^$' -bench RegistryAreas -benchtime 50x
func BenchmarkRegistryAreas(b *testing.B) {
	srv := hasstest.Start(b, token)
	var reg hasstest.Registry
	for i := range 20 {
		reg.Areas = append(reg.Areas, hasstest.Area{AreaID: fmt.Sprintf("area_%d", i), Name: fmt.Sprintf("Room %d", i)})
	}
	for i := range 100 {
		a := fmt.Sprintf("area_%d", i%20)
		reg.Devices = append(reg.Devices, hasstest.Device{ID: fmt.Sprintf("dev_%d", i), AreaID: &a})
	}
	for i := range 500 {
		d := fmt.Sprintf("dev_%d", i%100)
		reg.Entities = append(reg.Entities, hasstest.Entity{EntityID: fmt.Sprintf("light.l%d", i), DeviceID: &d})
	}
	srv.SetRegistry(reg)
	c, err := New(Options{URL: srv.URL, Token: token})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		areas, err := c.registryAreas(context.Background())
		if err != nil || len(areas) != 500 {
			b.Fatalf("%d areas, %v", len(areas), err)
		}
	}
}
