#!/bin/sh
# Serves the sample page with busybox httpd when the image runs on a base that has it.
exec httpd -f -p 8080 -h /app
