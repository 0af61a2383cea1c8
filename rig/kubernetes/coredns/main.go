// CoreDNS for the Kubernetes rig, with the plugins its Corefile uses
// (cluster.sh) instead of all of them: build.sh builds it in the wrapper
// module beside Kubernetes, so it shares Kubernetes' client packages and
// skips the cloud providers' SDKs.
package main

import (
	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/template"

	"github.com/coredns/coredns/coremain"
)

func main() {
	coremain.Run()
}
