// Callers of this module name credentials without importing the signer module.
@_exported import struct AWSSigV4.AWSCredentials
