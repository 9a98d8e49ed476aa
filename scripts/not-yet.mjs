console.log(`'pnpm ${process.argv[2]}' runs the host, which is not built yet.`)
