package doctor

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// greetingPacket builds a protocol-10 greeting as MariaDB sends it.
func greetingPacket(version, plugin string, caps uint32) []byte {
	var p bytes.Buffer
	p.WriteByte(10)
	p.WriteString(version)
	p.WriteByte(0)
	p.Write([]byte{1, 0, 0, 0}) // connection id
	p.Write(make([]byte, 8))    // auth data 1
	p.WriteByte(0)              // filler
	binary.Write(&p, binary.LittleEndian, uint16(caps))
	p.WriteByte(45)       // charset
	p.Write([]byte{2, 0}) // status
	binary.Write(&p, binary.LittleEndian, uint16(caps>>16))
	p.WriteByte(21)           // auth data length
	p.Write(make([]byte, 10)) // reserved
	p.Write(make([]byte, 13)) // auth data 2
	p.WriteString(plugin)
	p.WriteByte(0)
	return frame(p.Bytes())
}

func frame(payload []byte) []byte {
	n := len(payload)
	return append([]byte{byte(n), byte(n >> 8), byte(n >> 16), 0}, payload...)
}

func TestReadGreeting(t *testing.T) {
	full := uint32(clientProtocol41 | clientSSL | clientSecureConnection | clientPluginAuth)
	tests := []struct {
		name                 string
		packet               []byte
		version, plugin, err string
		ssl                  bool
	}{
		{"MariaDB", greetingPacket("5.5.5-10.11.6-MariaDB-0+deb12u1", "mysql_native_password", full), "10.11.6-MariaDB-0+deb12u1", "mysql_native_password", "", true},
		{"MySQL without TLS", greetingPacket("8.4.7", "caching_sha2_password", full&^clientSSL), "8.4.7", "caching_sha2_password", "", false},
		{"host blocked", frame(append([]byte{0xff, 0x69, 0x04}, "Host '10.0.0.5' is blocked because of many connection errors"...)), "", "", "error 1129: Host '10.0.0.5' is blocked", false},
		{"not MySQL", []byte("HTTP/1.1 400 Bad Request\r\n\r\n"), "", "", "not a MySQL greeting", false},
		{"truncated", frame([]byte{10, '8', 0, 1}), "", "", "truncated", false},
		{"old protocol", frame([]byte{9, '3', 0}), "", "", "protocol version 9", false},
		{"empty", nil, "", "", "read greeting", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := readGreeting(bytes.NewReader(tt.packet))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || g.version != tt.version || g.plugin != tt.plugin || (g.caps&clientSSL != 0) != tt.ssl {
				t.Fatalf("got %+v, %v; want %s %s ssl=%v", g, err, tt.version, tt.plugin, tt.ssl)
			}
		})
	}
}
