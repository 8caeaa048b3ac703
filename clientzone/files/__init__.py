"""Files the service renders or keeps: invoice and statement documents, case
attachments, content-type sniffing."""
