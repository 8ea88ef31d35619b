package wyoming

import (
	"fmt"
	"net"
	"os"

	"github.com/hashicorp/mdns"
)

// Announce advertises the server at addr on the LAN with multicast DNS as instance name of
// service _wyoming._tcp (Home Assistant discovers Wyoming services that way). It returns a
// function that stops the announcement.
func Announce(name string, addr net.Addr) (stop func() error, err error) {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return nil, fmt.Errorf("zeroconf: %v is not a TCP address", addr)
	}
	if tcp.IP.IsLoopback() {
		return nil, fmt.Errorf("zeroconf: %v is a loopback address, which nothing on the LAN can reach: listen on the LAN (--uri tcp://0.0.0.0:%d) or leave the announcement off", addr, tcp.Port)
	}
	var ips []net.IP
	if !tcp.IP.IsUnspecified() {
		ips = []net.IP{tcp.IP}
	}
	host, err := os.Hostname()
	if err != nil {
		return nil, fmt.Errorf("zeroconf: %w", err)
	}
	svc, err := mdns.NewMDNSService(name, "_wyoming._tcp", "", host+".", tcp.Port, ips, []string{"hark"})
	if err != nil {
		return nil, fmt.Errorf("zeroconf: %w", err)
	}
	srv, err := mdns.NewServer(&mdns.Config{Zone: svc})
	if err != nil {
		return nil, fmt.Errorf("zeroconf: %w", err)
	}
	return srv.Shutdown, nil
}
