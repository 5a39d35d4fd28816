package veth

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// tagPrefix starts every mark this plugin leaves in the kernel: the alias
// of host veths and the comment of masquerade jump rules. GC deletes only
// objects that carry it, so it never touches links or rules someone else
// made, even ones that happen to be called veth<hex>.
const tagPrefix = "llcr-veth:"

// maxTagLen is the smaller of IFALIASZ-1 and the xt_comment limit (255).
const maxTagLen = 255

// HostVethName is the host end's name for an attachment. It is derived from
// the container ID and interface name alone so that DEL and GC can find the
// link without a prevResult; "veth" plus 11 hex digits fills IFNAMSIZ-1.
func HostVethName(containerID, ifName string) string {
	sum := sha256.Sum256([]byte(containerID + "/" + ifName))
	return "veth" + hex.EncodeToString(sum[:])[:11]
}

// attachmentKey identifies an attachment within a network, the way
// cni.dev/valid-attachments does.
func attachmentKey(containerID, ifName string) string {
	return containerID + "/" + ifName
}

// attachmentTag is "llcr-veth:<network>:<containerID>/<ifname>". The network
// is included because GC runs per network and must leave other networks'
// attachments alone; CNI names and container IDs cannot contain ':'.
func attachmentTag(network, containerID, ifName string) (string, error) {
	tag := tagPrefix + network + ":" + attachmentKey(containerID, ifName)
	if len(tag) > maxTagLen {
		return "", fmt.Errorf("attachment tag for network %q, container %q, interface %q is %d bytes, over the kernel's %d",
			network, containerID, ifName, len(tag), maxTagLen)
	}
	return tag, nil
}

// tagKey returns the attachment key of tag if it belongs to network.
func tagKey(tag, network string) (string, bool) {
	rest, ok := strings.CutPrefix(tag, tagPrefix+network+":")
	if !ok || !strings.Contains(rest, "/") {
		return "", false
	}
	return rest, true
}

// masqChain is the per-network nat chain shared by all containers of the
// network. Hashing keeps it under iptables' 28-character limit for any
// network name; the LLCR- prefix makes leftovers easy to spot.
func masqChain(network string) string {
	sum := sha256.Sum256([]byte(network))
	return "LLCR-MASQ-" + strings.ToUpper(hex.EncodeToString(sum[:])[:12])
}
