package git

import (
	"bytes"
	"encoding/binary"
)

// checkTree notes the objects a tree names that the store lacks, which is
// how a partial clone's missing blobs are found without walking history.
// Gitlinks (mode 160000) name commits of other repositories and are skipped.
// A malformed tree is read up to where it stops making sense.
func (ps *packScan) checkTree(data []byte) {
	for len(data) > 0 {
		sp := bytes.IndexByte(data, ' ')
		if sp < 0 {
			return
		}
		nul := bytes.IndexByte(data[sp:], 0)
		if nul < 0 || len(data)-(sp+nul+1) < oidLen {
			return
		}
		mode, id := data[:sp], data[sp+nul+1:sp+nul+1+oidLen]
		data = data[sp+nul+1+oidLen:]
		if string(mode) == "160000" {
			continue
		}
		if _, ok := ps.present[binary.BigEndian.Uint64(id)]; !ok {
			ps.addMissing(id)
		}
	}
}

func (ps *packScan) addMissing(id []byte) {
	var k [oidLen]byte
	copy(k[:], id)
	ps.mu.Lock()
	ps.missing[k] = struct{}{}
	ps.mu.Unlock()
}
