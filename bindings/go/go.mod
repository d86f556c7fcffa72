module gaia.dev/gaia

go 1.22
