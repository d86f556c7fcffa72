module gaia.dev/sharedstudy

go 1.22

require gaia.dev/gaia v0.0.0

replace gaia.dev/gaia => ../../../bindings/go
