/* asmonly: synthetic assembly */
	.text
