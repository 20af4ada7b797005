#!/usr/bin/env node
// The command line of @20minutes/s3rver, whose package ships lib/cli.js but no bin/ script.
// Prints "S3rver listening on ADDRESS:PORT" once it accepts connections (with -p 0, the real port).
'use strict';
require('@20minutes/s3rver/lib/cli.js').parseAsync(process.argv);
