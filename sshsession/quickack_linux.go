package sshsession

import (
	"net"
	"sync/atomic"
	"syscall"
)

// quickAckReads is how many reads get an immediate ACK: the handshake, authentication and
// the first session's start take about twenty; bulk transfers after that are left alone.
const quickAckReads = 64

// quickAck makes the kernel acknowledge what the first reads of a TCP connection received
// at once instead of up to 40 ms later (delayed ACK). sshd runs non-PTY sessions with Nagle
// on, so after authentication it holds CHANNEL_OPEN_CONFIRMATION until the client ACKs the
// hostkeys-00@openssh.com packet just before it — a delayed ACK stalled every session start
// by about 40 ms.
func quickAck(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	q := &quickAckConn{Conn: c, raw: raw}
	q.left.Store(quickAckReads)
	return q
}

type quickAckConn struct {
	net.Conn
	raw  syscall.RawConn
	left atomic.Int32
}

// Read re-arms TCP_QUICKACK after each read, which also sends an ACK the kernel was
// delaying for the data just read (Linux exits quick-ACK mode on its own).
func (q *quickAckConn) Read(p []byte) (int, error) {
	n, err := q.Conn.Read(p)
	if n > 0 && q.left.Load() > 0 {
		q.left.Add(-1)
		_ = q.raw.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
		})
	}
	return n, err
}
