package host

import "github.com/membergraph/membergraph/plugins/sdk"

// RPC is the running plugin's gRPC client, for the benchmark of a bare call.
func (m *Manager) RPC(key string) *sdk.Client {
	p := m.partner(key)
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rpc
}
